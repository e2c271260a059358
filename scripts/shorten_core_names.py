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
which only the component's own `alias core export` lines refer to; an export that none of them
refers to (`memcmp`, which the linker exports because it is `#[no_mangle]`) is dropped. The
helper modules `component new` adds (the shim and its fixup) get short import module names too.

Works on the text `wasm-tools print` writes, whose layout is regular: one import, export or
`with` per line. Anything it does not recognise makes it stop with an error rather than guess.

Usage: shorten_core_names.py IN.wat OUT.wat
"""
import re
import sys

IMPORT = re.compile(r'^(\s*)\(import "([^"]+)" "([^"]+)" (.*)$')
EXPORT = re.compile(r'^(\s*)\(export "([^"]+)" (.*)$')
WITH = re.compile(r'^(\s*)\(with "([^"]+)" \(instance (\d+)\)\)(.*)$')
INSTANTIATE = re.compile(r'^\s*\(core instance \(;(\d+);\) \(instantiate (\d+)\s*$')
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


def instantiations(lines):
    """Each core module's instantiation: {module: (instance, [(import module, feeding instance)])}."""
    found, current = {}, None
    for line in lines:
        match = INSTANTIATE.match(line)
        if match:
            instance, module = match.groups()
            if module in found:
                fail(f"module {module} is instantiated twice")
            current = found[module] = (instance, [])
            continue
        if current is not None:
            match = WITH.match(line)
            if match:
                current[1].append((match.group(2), match.group(3)))
            elif line.strip() == ")":
                current = None
            else:
                fail(f"unexpected line in an instantiation: {line.strip()}")
    return found


def main(source, target):
    lines = open(source).read().split("\n")
    instances = instantiations(lines)
    if "0" not in instances:
        fail("no instantiation of module 0")
    main_instance = instances["0"][0]
    feeds = {instance: name for name, instance in instances["0"][1]}  # instance -> import module
    aliased = {m.group(3) for m in map(ALIAS_CORE_EXPORT.match, lines) if m and m.group(2) == main_instance}

    module_names = {}  # module -> {import module name -> short}
    field_names = {}  # (import module, field) of module 0 -> short
    export_names = {}  # export of module 0 -> short

    out = []
    module = None  # the core module whose lines are being read
    instance = None  # the core instance whose export lines are being read
    instantiated = None  # the module whose instantiation is being read
    for line in lines:
        found = CORE_MODULE.match(line)
        if found:
            module = found.group(1)
            module_names[module] = {}
            out.append(line)
            continue
        if module is not None:
            if line == "  )":
                module = None
            elif found := IMPORT.match(line):
                indent, name, field, rest = found.groups()
                names = module_names[module]
                short_module = names.setdefault(name, short_name(len(names)))
                if module == "0":
                    count = sum(1 for key in field_names if key[0] == name)
                    field = field_names.setdefault((name, field), short_name(count))
                line = f'{indent}(import "{short_module}" "{field}" {rest}'
            elif module == "0" and (found := EXPORT.match(line)):
                indent, name, rest = found.groups()
                if name not in aliased:
                    continue
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

        found = INSTANTIATE.match(line)
        if found:
            instantiated = found.group(2)
        elif instantiated is not None:
            found = WITH.match(line)
            if found:
                indent, name, index, rest = found.groups()
                line = f'{indent}(with "{module_names[instantiated][name]}" (instance {index})){rest}'
            else:
                instantiated = None

        found = ALIAS_CORE_EXPORT.match(line)
        if found and found.group(2) == main_instance:
            head, index, name, rest = found.groups()
            line = f'{head}{index} "{export_names[name]}"{rest}'
        out.append(line)

    if not field_names:
        fail("module 0 has no imports: not the layout this script knows")
    open(target, "w").write("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
