#!/usr/bin/env python3
"""png-bars.py PNG R G B: the horizontal bars of colour (R, G, B) in a PNG
screenshot (8-bit RGB or RGBA, not interlaced), read with the standard
library only. Prints "N equal" when every bar has the same length (within
2 %), else "N unequal: L1 L2 ...". A bar is a run of rows holding that
colour; its length is the widest run of that colour in its rows."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                sys.exit("unsupported PNG")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return rows, width, bpp


def main():
    rows, width, bpp = pixels(sys.argv[1])
    want = tuple(int(v) for v in sys.argv[2:5])
    bars, current = [], 0
    for line in rows:
        run = best = 0
        for x in range(width):
            if tuple(line[x * bpp:x * bpp + 3]) == want:
                run += 1
                best = max(best, run)
            else:
                run = 0
        if best > 0:
            current = max(current, best)
        elif current:
            bars.append(current)
            current = 0
    if current:
        bars.append(current)
    equal = bars and max(bars) - min(bars) <= max(bars) * 0.02
    print(f"{len(bars)} equal" if equal else f"{len(bars)} unequal: " + " ".join(map(str, bars)))


main()
