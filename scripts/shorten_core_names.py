#!/usr/bin/env python3
"""Shortens the names a component uses only inside itself.

`wasm-tools component new` wires the core module to its imports by name: every core import is
named by its WIT interface and function ("wasi:http/types@0.2.12", "[method]outgoing-request.
set-authority"), and the core instance that satisfies it exports the function under that name
again. Those names never leave the component: the host sees the component-level imports and
exports, which this script does not touch. Renaming each core import and the matching core
instance export to a one- or two-letter name is a consistent renaming inside one closed scope,
so the component's meaning is unchanged; it saves about 3 KB.

The same holds for the main module's exports (`memory`, `cabi_realloc`, the exported handler),
which only the component's own `alias core export` lines refer to.

Works on the text `wasm-tools print` writes, whose layout is regular: one import, export or
`with` per line. Anything it does not recognise makes it stop with an error rather than guess.

Usage: shorten_core_names.py IN.wat OUT.wat
"""
import re
import sys

IMPORT = re.compile(r'^(\s*)\(import "([^"]+)" "([^"]+)" (.*)$')
EXPORT = re.compile(r'^(\s*)\(export "([^"]+)" (.*)$')
WITH = re.compile(r'^(\s*)\(with "([^"]+)" \(instance (\d+)\)\)(.*)$')
INSTANTIATE_MAIN = re.compile(r'^\s*\(core instance \(;(\d+);\) \(instantiate 0\s*$')
CORE_INSTANCE = re.compile(r'^\s*\(core instance \(;(\d+);\)\s*$')
ALIAS_CORE_EXPORT = re.compile(r'^(\s*\(alias core export )(\d+) "([^"]+)"(.*)$')
CORE_MODULE = re.compile(r'^  \(core module \(;(\d+);\)\s*$')


def short_name(index):
    """0 → "a", 25 → "z", 26 → "A", 52 → "ba": names as short as the count allows."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    name = alphabet[index % len(alphabet)]
    index //= len(alphabet)
    while index:
        name = alphabet[index % len(alphabet)] + name
        index //= len(alphabet)
    return name


def fail(message):
    sys.exit(f"shorten_core_names: {message}")


def main(source, target):
    lines = open(source).read().split("\n")

    # Pass 1: which core instances feed which import module of module 0, and which core
    # instance is module 0's instantiation.
    feeds = {}  # core instance index -> import module name of module 0
    main_instance = None
    in_instantiation = False
    for line in lines:
        found = INSTANTIATE_MAIN.match(line)
        if found:
            if main_instance is not None:
                fail("module 0 is instantiated twice")
            main_instance = found.group(1)
            in_instantiation = True
            continue
        if in_instantiation:
            found = WITH.match(line)
            if found:
                feeds[found.group(3)] = found.group(2)
            elif line.strip() == ")":
                in_instantiation = False
            else:
                fail(f"unexpected line in module 0's instantiation: {line.strip()}")
    if main_instance is None:
        fail("no instantiation of module 0")

    module_names = {}  # import module name -> short
    field_names = {}  # (module, field) -> short
    export_names = {}  # export of module 0 -> short

    # Pass 2: rename, module 0's imports and exports first (they come first in the text).
    out = []
    module = None
    instance = None  # the core instance whose export lines are being read
    in_instantiation = False
    for line in lines:
        found = CORE_MODULE.match(line)
        if found:
            module = found.group(1)
            out.append(line)
            continue
        if module is not None:
            if line == "  )":
                module = None
            elif module == "0":
                found = IMPORT.match(line)
                if found:
                    indent, mod, field, rest = found.groups()
                    short_mod = module_names.setdefault(mod, short_name(len(module_names)))
                    count = sum(1 for key in field_names if key[0] == mod)
                    short_field = field_names.setdefault((mod, field), short_name(count))
                    line = f'{indent}(import "{short_mod}" "{short_field}" {rest}'
                else:
                    found = EXPORT.match(line)
                    if found:
                        indent, name, rest = found.groups()
                        short = export_names.setdefault(name, short_name(len(export_names)))
                        line = f'{indent}(export "{short}" {rest}'
            out.append(line)
            continue

        found = CORE_INSTANCE.match(line)
        if found and found.group(1) in feeds:
            instance = found.group(1)
            out.append(line)
            continue
        if instance is not None:
            if line.strip() == ")":
                instance = None
            else:
                found = EXPORT.match(line)
                if not found:
                    fail(f"unexpected line in core instance {instance}: {line.strip()}")
                indent, name, rest = found.groups()
                key = (feeds[instance], name)
                if key not in field_names:
                    fail(f"core instance {instance} exports {name}, which module 0 does not import")
                line = f'{indent}(export "{field_names[key]}" {rest}'
            out.append(line)
            continue

        if INSTANTIATE_MAIN.match(line):
            in_instantiation = True
        elif in_instantiation:
            found = WITH.match(line)
            if found:
                indent, mod, index, rest = found.groups()
                line = f'{indent}(with "{module_names[mod]}" (instance {index})){rest}'
            else:
                in_instantiation = False

        found = ALIAS_CORE_EXPORT.match(line)
        if found and found.group(2) == main_instance:
            head, index, name, rest = found.groups()
            if name not in export_names:
                fail(f"alias of {name}, which module 0 does not export")
            line = f'{head}{index} "{export_names[name]}"{rest}'
        out.append(line)

    if not field_names:
        fail("module 0 has no imports: not the layout this script knows")
    open(target, "w").write("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
