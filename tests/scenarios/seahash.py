"""SeaHash, version 4 of the reference Rust crate, for computing the gateway's default colours.

The state is four 64-bit lanes with fixed seeds. The input is read as little-endian 64-bit words
(the last one zero-padded); word i is mixed into lane i % 4 with `diffuse`. The result is
`diffuse(a ^ b ^ c ^ d ^ length)`.
"""

MASK = (1 << 64) - 1
MULTIPLIER = 0x6EED0E9DA4D94A4F
SEEDS = (0x16F11FE89B0D677C, 0xB480A793D8E6C86C, 0x6FE2E5AAF078EBC9, 0x14F994A4C5259381)


def diffuse(value):
    """Apply SeaHash's bijective mixing function: multiply, shift-xor by a data-dependent amount, multiply."""
    value = (value * MULTIPLIER) & MASK
    value ^= (value >> 32) >> (value >> 60)
    return (value * MULTIPLIER) & MASK


def seahash(data):
    """Return the 64-bit SeaHash of `data` (bytes) with the crate's default seeds."""
    lanes = list(SEEDS)
    for index in range(0, len(data), 8):
        word = int.from_bytes(data[index:index + 8], "little")
        lane = (index // 8) % 4
        lanes[lane] = diffuse(lanes[lane] ^ word)
    return diffuse(lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ len(data))


def default_color(user_id):
    """Return the gateway's default colour of a user: `hsl(H, 70%, 50%)`, H = SeaHash of the UTF-8 id mod 360."""
    return f"hsl({seahash(user_id.encode('utf-8')) % 360}, 70%, 50%)"
