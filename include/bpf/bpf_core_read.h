/* SPDX-License-Identifier: MIT */
/*
 * CO-RE (compile once, run everywhere) reads: clang records each field access in BTF relocations
 * (__builtin_preserve_access_index and friends), and the loader rewrites the offsets, sizes and
 * existence checks for the kernel the program runs on.
 *
 *   pid = BPF_CORE_READ(task, real_parent, tgid);       task->real_parent->tgid, each step read safely
 *   if (bpf_core_field_exists(task->loginuid)) ...       0 on a kernel without the field
 */
#ifndef __BPFJIT_BPF_CORE_READ_H
#define __BPFJIT_BPF_CORE_READ_H

/* The second argument of __builtin_preserve_field_info: what to ask of a field. */
enum bpf_field_info_kind {
	BPF_FIELD_BYTE_OFFSET = 0,
	BPF_FIELD_BYTE_SIZE = 1,
	BPF_FIELD_EXISTS = 2,
	BPF_FIELD_SIGNED = 3,
	BPF_FIELD_LSHIFT_U64 = 4,
	BPF_FIELD_RSHIFT_U64 = 5,
};

/* ... of __builtin_btf_type_id. */
enum bpf_type_id_kind {
	BPF_TYPE_ID_LOCAL = 0,
	BPF_TYPE_ID_TARGET = 1,
};

/* ... of __builtin_preserve_type_info. */
enum bpf_type_info_kind {
	BPF_TYPE_EXISTS = 0,
	BPF_TYPE_SIZE = 1,
	BPF_TYPE_MATCHES = 2,
};

/* ... of __builtin_preserve_enum_value. */
enum bpf_enum_value_kind {
	BPF_ENUMVAL_EXISTS = 0,
	BPF_ENUMVAL_VALUE = 1,
};

/* The number of arguments (1 to 9), to pick the macro written for that many. */
#define __BPFJIT_NTH(_1, _2, _3, _4, _5, _6, _7, _8, _9, N, ...) N
#define __BPFJIT_NARGS(...) __BPFJIT_NTH(__VA_ARGS__, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __BPFJIT_CAT2(a, b) a##b
#define __BPFJIT_CAT(a, b) __BPFJIT_CAT2(a, b)
#define __BPFJIT_PICK(name, ...) __BPFJIT_CAT(name, __BPFJIT_NARGS(__VA_ARGS__))

/* Field questions take `s->field` or `type, field`. */
#define __bpfjit_field_info1(kind, field) __builtin_preserve_field_info(field, kind)
#define __bpfjit_field_info2(kind, type, field) __builtin_preserve_field_info(((typeof(type) *)0)->field, kind)
#define __bpfjit_field_info(kind, ...) __BPFJIT_PICK(__bpfjit_field_info, __VA_ARGS__)(kind, __VA_ARGS__)

#define bpf_core_field_exists(...) __bpfjit_field_info(BPF_FIELD_EXISTS, __VA_ARGS__)
#define bpf_core_field_size(...) __bpfjit_field_info(BPF_FIELD_BYTE_SIZE, __VA_ARGS__)
#define bpf_core_field_offset(...) __bpfjit_field_info(BPF_FIELD_BYTE_OFFSET, __VA_ARGS__)
#define bpf_core_field_signed(...) __bpfjit_field_info(BPF_FIELD_SIGNED, __VA_ARGS__)

/* Type questions take a type (`struct task_struct`, a typedef). */
#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_LOCAL)
#define bpf_core_type_id_kernel(type) __builtin_btf_type_id(*(typeof(type) *)0, BPF_TYPE_ID_TARGET)
#define bpf_core_type_exists(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_EXISTS)
#define bpf_core_type_matches(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_MATCHES)
#define bpf_core_type_size(type) __builtin_preserve_type_info(*(typeof(type) *)0, BPF_TYPE_SIZE)

/* Enumerator questions take the enum type and one of its enumerators. */
#define bpf_core_enum_value_exists(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_EXISTS)
#define bpf_core_enum_value(enum_type, enum_value) \
	__builtin_preserve_enum_value(*(typeof(enum_type) *)enum_value, BPF_ENUMVAL_VALUE)

/* One relocated read of sz bytes at src (a field address such as &t->pid) into dst. */
#define bpf_core_read(dst, sz, src) \
	bpf_probe_read_kernel(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user(dst, sz, src) \
	bpf_probe_read_user(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_str(dst, sz, src) \
	bpf_probe_read_kernel_str(dst, sz, (const void *)__builtin_preserve_access_index(src))
#define bpf_core_read_user_str(dst, sz, src) \
	bpf_probe_read_user_str(dst, sz, (const void *)__builtin_preserve_access_index(src))

/* Without relocations: the offsets as compiled. */
#define __bpfjit_probe_read(dst, sz, src) bpf_probe_read_kernel(dst, sz, (const void *)(src))
#define __bpfjit_probe_read_str(dst, sz, src) bpf_probe_read_kernel_str(dst, sz, (const void *)(src))

/* `(s)->a->b->c`, for the type of a chain's last field. */
#define __bpfjit_path1(s, a) (s)->a
#define __bpfjit_path2(s, a, b) __bpfjit_path1(s, a)->b
#define __bpfjit_path3(s, a, b, c) __bpfjit_path2(s, a, b)->c
#define __bpfjit_path4(s, a, b, c, d) __bpfjit_path3(s, a, b, c)->d
#define __bpfjit_path5(s, a, b, c, d, e) __bpfjit_path4(s, a, b, c, d)->e
#define __bpfjit_path6(s, a, b, c, d, e, f) __bpfjit_path5(s, a, b, c, d, e)->f
#define __bpfjit_path7(s, a, b, c, d, e, f, g) __bpfjit_path6(s, a, b, c, d, e, f)->g
#define __bpfjit_path8(s, a, b, c, d, e, f, g, h) __bpfjit_path7(s, a, b, c, d, e, f, g)->h
#define __bpfjit_path(s, ...) __BPFJIT_PICK(__bpfjit_path, __VA_ARGS__)(s, __VA_ARGS__)

/*
 * A chain read: each pointer on the way is read with `rd` into a variable of its own depth (so the
 * nested blocks never see each other's), the last field with `last` into dst.
 */
#define __bpfjit_into1(rd, last, dst, s, a) last((void *)(dst), sizeof(*(dst)), &(s)->a)
#define __bpfjit_step(n, rd, s, a) \
	const void *__bpfjit_p##n = 0; rd((void *)&__bpfjit_p##n, sizeof(__bpfjit_p##n), &(s)->a)
#define __bpfjit_into2(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(2, rd, s, a); __bpfjit_into1(rd, last, dst, ((typeof((s)->a))__bpfjit_p2), __VA_ARGS__); })
#define __bpfjit_into3(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(3, rd, s, a); __bpfjit_into2(rd, last, dst, ((typeof((s)->a))__bpfjit_p3), __VA_ARGS__); })
#define __bpfjit_into4(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(4, rd, s, a); __bpfjit_into3(rd, last, dst, ((typeof((s)->a))__bpfjit_p4), __VA_ARGS__); })
#define __bpfjit_into5(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(5, rd, s, a); __bpfjit_into4(rd, last, dst, ((typeof((s)->a))__bpfjit_p5), __VA_ARGS__); })
#define __bpfjit_into6(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(6, rd, s, a); __bpfjit_into5(rd, last, dst, ((typeof((s)->a))__bpfjit_p6), __VA_ARGS__); })
#define __bpfjit_into7(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(7, rd, s, a); __bpfjit_into6(rd, last, dst, ((typeof((s)->a))__bpfjit_p7), __VA_ARGS__); })
#define __bpfjit_into8(rd, last, dst, s, a, ...) \
	({ __bpfjit_step(8, rd, s, a); __bpfjit_into7(rd, last, dst, ((typeof((s)->a))__bpfjit_p8), __VA_ARGS__); })
#define __bpfjit_into(rd, last, dst, s, ...) __BPFJIT_PICK(__bpfjit_into, __VA_ARGS__)(rd, last, dst, s, __VA_ARGS__)

/* BPF_CORE_READ_INTO(&dst, src, a, b, c): dst = src->a->b->c, with relocations. */
#define BPF_CORE_READ_INTO(dst, src, a, ...) __bpfjit_into(bpf_core_read, bpf_core_read, dst, src, a, ##__VA_ARGS__)
#define BPF_CORE_READ_USER_INTO(dst, src, a, ...) __bpfjit_into(bpf_core_read_user, bpf_core_read_user, dst, src, a, ##__VA_ARGS__)
#define BPF_CORE_READ_STR_INTO(dst, src, a, ...) __bpfjit_into(bpf_core_read, bpf_core_read_str, dst, src, a, ##__VA_ARGS__)
/* The same without relocations. */
#define BPF_PROBE_READ_INTO(dst, src, a, ...) __bpfjit_into(__bpfjit_probe_read, __bpfjit_probe_read, dst, src, a, ##__VA_ARGS__)
#define BPF_PROBE_READ_STR_INTO(dst, src, a, ...) __bpfjit_into(__bpfjit_probe_read, __bpfjit_probe_read_str, dst, src, a, ##__VA_ARGS__)

/* BPF_CORE_READ(src, a, b, c): the value of src->a->b->c, read as BPF_CORE_READ_INTO reads it. */
#define BPF_CORE_READ(src, a, ...) \
	({ typeof(__bpfjit_path(src, a, ##__VA_ARGS__)) __bpfjit_val; BPF_CORE_READ_INTO(&__bpfjit_val, src, a, ##__VA_ARGS__); __bpfjit_val; })
#define BPF_CORE_READ_USER(src, a, ...) \
	({ typeof(__bpfjit_path(src, a, ##__VA_ARGS__)) __bpfjit_val; BPF_CORE_READ_USER_INTO(&__bpfjit_val, src, a, ##__VA_ARGS__); __bpfjit_val; })
#define BPF_PROBE_READ(src, a, ...) \
	({ typeof(__bpfjit_path(src, a, ##__VA_ARGS__)) __bpfjit_val; BPF_PROBE_READ_INTO(&__bpfjit_val, src, a, ##__VA_ARGS__); __bpfjit_val; })

#endif /* __BPFJIT_BPF_CORE_READ_H */
