/*
 * switch: a 64-case switch over the little-endian u32 at the start of the input; each case returns
 * its own arbitrary constant and anything else returns 0. The constants are irregular on purpose, so
 * clang can only emit compare-and-branch code (see build.sh for why no lookup table can appear).
 */
#include "bpf.h"

INLINE uint64_t classify(uint32_t key)
{
	switch (key) {
	case 0: return 10290;
	case 1: return 57043;
	case 2: return 41192;
	case 3: return 27715;
	case 4: return 13849;
	case 5: return 39302;
	case 6: return 57730;
	case 7: return 54738;
	case 8: return 28522;
	case 9: return 42986;
	case 10: return 32511;
	case 11: return 21341;
	case 12: return 41303;
	case 13: return 52376;
	case 14: return 51001;
	case 15: return 53938;
	case 16: return 23605;
	case 17: return 15488;
	case 18: return 58526;
	case 19: return 48988;
	case 20: return 27657;
	case 21: return 39004;
	case 22: return 42489;
	case 23: return 42737;
	case 24: return 40410;
	case 25: return 27046;
	case 26: return 26960;
	case 27: return 30734;
	case 28: return 59908;
	case 29: return 41702;
	case 30: return 22821;
	case 31: return 15648;
	case 32: return 54459;
	case 33: return 4692;
	case 34: return 23528;
	case 35: return 40208;
	case 36: return 53104;
	case 37: return 59036;
	case 38: return 50053;
	case 39: return 17952;
	case 40: return 50426;
	case 41: return 19267;
	case 42: return 10337;
	case 43: return 41307;
	case 44: return 53263;
	case 45: return 43374;
	case 46: return 16878;
	case 47: return 4305;
	case 48: return 25469;
	case 49: return 17421;
	case 50: return 42144;
	case 51: return 49784;
	case 52: return 40439;
	case 53: return 52044;
	case 54: return 44575;
	case 55: return 4408;
	case 56: return 13754;
	case 57: return 8305;
	case 58: return 26428;
	case 59: return 21882;
	case 60: return 24041;
	case 61: return 53441;
	case 62: return 19256;
	case 63: return 51150;
	default: return 0;
	}
}

uint64_t switch_bench(const uint8_t *mem, uint64_t len)
{
	if (len < 4)
		return 0;
	return classify(*(const uint32_t *)mem);
}
