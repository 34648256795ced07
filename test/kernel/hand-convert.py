#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hand converter: a deliberately small, independent oracle for checking the kernel harness.

    hand-convert.py IN.ko OUT.ko NAME=OBJ,POS [NAME=OBJ,POS ...]

Not klp-convert: it reads no symbol map and decides nothing.  The caller states, for every
unexported symbol the livepatch uses, its object and position (worked out by hand from nm and
System.map).  It then does the ELF surgery of the livepatch format on an x86_64 .ko:

  - each listed undefined symbol becomes .klp.sym.<OBJ>.<NAME>,<POS> with st_shndx=SHN_LIVEPATCH;
  - relocations against them move from .rela<sec> to .klp.rela.<OBJ><sec>
    (SHT_RELA, SHF_ALLOC|SHF_INFO_LINK|SHF_RELA_LIVEPATCH, sh_info = <sec>);
  - relocations in .rela.klp.module_relocs.* (the annotations) are dropped.

New string tables, klp relocation sections and the section header table are appended at the end of
the file; old contents stay in place.  selftest-hand.sh uses it to check that run.sh's cases pass
with correctly converted modules, independently of the TypeScript converter.
"""
import struct
import sys

SHT_RELA = 4
SHF_ALLOC, SHF_INFO_LINK, SHF_RELA_LIVEPATCH = 0x2, 0x40, 0x00100000
SHN_LIVEPATCH = 0xFF20
SHDR = struct.Struct('<IIQQQQIIQQ')  # name type flags addr offset size link info addralign entsize
SYM = struct.Struct('<IBBHQQ')
RELA = struct.Struct('<QQq')


def die(msg):
    sys.stderr.write(f'hand-convert: {msg}\n')
    sys.exit(1)


def main(argv):
    if len(argv) < 3:
        die('usage: hand-convert.py IN.ko OUT.ko NAME=OBJ,POS ...')
    inp, out, specs = argv[0], argv[1], argv[2:]
    want = {}
    for spec in specs:
        name, _, rest = spec.partition('=')
        obj, _, pos = rest.partition(',')
        if not name or not obj or not pos.isdigit():
            die(f'bad spec {spec!r}')
        want[name] = (obj, int(pos))

    data = bytearray(open(inp, 'rb').read())
    if data[:4] != b'\x7fELF' or data[4] != 2 or data[5] != 1:
        die('not an ELF64 little-endian file')
    shoff = struct.unpack_from('<Q', data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)
    sh = [list(SHDR.unpack_from(data, shoff + i * shentsize)) for i in range(shnum)]

    def body(i):
        return bytes(data[sh[i][4]:sh[i][4] + sh[i][5]])

    def cstr(buf, off):
        return buf[off:buf.index(b'\0', off)].decode()

    shstr = bytearray(body(shstrndx))
    names = [cstr(shstr, s[0]) for s in sh]
    symtab = names.index('.symtab')
    strtab_i = sh[symtab][6]
    strtab = bytearray(body(strtab_i))

    # 1. symbols
    converted = {}  # symbol index -> object
    done = set()
    nsyms = sh[symtab][5] // SYM.size
    for i in range(1, nsyms):
        off = sh[symtab][4] + i * SYM.size
        st_name, st_info, st_other, st_shndx, st_value, st_size = SYM.unpack_from(data, off)
        name = cstr(strtab, st_name)
        if st_shndx != 0 or name not in want:
            continue
        obj, pos = want[name]
        new_name = len(strtab)
        strtab += f'.klp.sym.{obj}.{name},{pos}'.encode() + b'\0'
        SYM.pack_into(data, off, new_name, st_info, st_other, SHN_LIVEPATCH, 0, st_size)
        converted[i] = obj
        done.add(name)
    missing = set(want) - done
    if missing:
        die(f'not undefined in {inp}: {" ".join(sorted(missing))}')

    # 2. relocations
    new_secs = []  # (name, target index, bytes)
    for i, s in enumerate(sh):
        if s[1] != SHT_RELA or names[i].startswith('.klp.rela.'):
            continue
        target = names[s[7]]
        keep, moved = [], {}
        for k in range(s[5] // RELA.size):
            r = RELA.unpack_from(data, s[4] + k * RELA.size)
            symi = r[1] >> 32
            if symi in converted:
                if not target.startswith('.klp.module_relocs.'):
                    moved.setdefault(converted[symi], []).append(r)
            else:
                keep.append(r)
        if len(keep) == s[5] // RELA.size:
            continue
        for k, r in enumerate(keep):
            RELA.pack_into(data, s[4] + k * RELA.size, *r)
        s[5] = len(keep) * RELA.size
        for obj, rs in moved.items():
            base = target if target.startswith('.') else '.' + target
            new_secs.append((f'.klp.rela.{obj}{base}', s[7], b''.join(RELA.pack(*r) for r in rs)))

    # 3. append tables and sections, then a new section header table
    def append(buf, align=8):
        while len(data) % align:
            data.append(0)
        off = len(data)
        data.extend(buf)
        return off

    for name, target, buf in new_secs:
        sh.append([len(shstr), SHT_RELA, SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH, 0, 0,
                   len(buf), symtab, target, 8, RELA.size])
        shstr += name.encode() + b'\0'
        sh[-1][4] = append(buf)
    sh[strtab_i][4], sh[strtab_i][5] = append(strtab, 1), len(strtab)
    sh[shstrndx][4], sh[shstrndx][5] = append(shstr, 1), len(shstr)
    new_shoff = append(b''.join(SHDR.pack(*s) for s in sh))
    struct.pack_into('<Q', data, 0x28, new_shoff)
    struct.pack_into('<H', data, 0x3C, len(sh))
    open(out, 'wb').write(data)
    for name, _, buf in new_secs:
        sys.stderr.write(f'hand-convert: {name}: {len(buf) // RELA.size} relocations\n')


if __name__ == '__main__':
    main(sys.argv[1:])
