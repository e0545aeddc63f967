// SeaHash by Ticki: four 64-bit lanes, each 8-byte little-endian word (the last one zero-padded)
// diffused into the next lane in turn, then the lanes and the length folded together.
#include "CLua.h"

static uint64_t diffuse(uint64_t value) {
    value *= 0x6eed0e9da4d94a4fULL;
    value ^= (value >> 32) >> (value >> 60);
    value *= 0x6eed0e9da4d94a4fULL;
    return value;
}

uint64_t clua_seahash(const void *bytes, size_t length) {
    const uint8_t *input = bytes;
    uint64_t lanes[4] = {0x16f11fe89b0d677cULL, 0xb480a793d8e6c86cULL, 0x6fe2e5aaf078ebc9ULL, 0x14f994a4c5259381ULL};
    for (size_t offset = 0; offset < length; offset += 8) {
        size_t count = length - offset < 8 ? length - offset : 8;
        uint64_t word = 0;
        for (size_t index = count; index > 0; index--) word = (word << 8) | input[offset + index - 1];
        uint64_t mixed = diffuse(lanes[0] ^ word);
        lanes[0] = lanes[1];
        lanes[1] = lanes[2];
        lanes[2] = lanes[3];
        lanes[3] = mixed;
    }
    return diffuse(lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ (uint64_t)length);
}
