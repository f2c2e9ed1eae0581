#!/usr/bin/env python3
"""Lists public declarations that have no `///` doc comment.

A declaration counts when its line starts with `public` or `open` (after any attributes on the
same line) and is not an import or an extension, or when it is a `case` of a public enum. It is
documented when the nearest line above it that is not an attribute (`@...`, or a modifier such
as `nonisolated(nonsending)` on a line of its own) is a `///` line or ends a `/** */` block.

    tools/undocumented-public.py [folder ...]     (default: the library modules)
    tools/undocumented-public.py --count           totals only

A file whose top-level public declarations are all `@_spi(...)` is left out and counted
apart: SPI is seen only by a client that imports it by name (the fuzz targets), not API.

Exits 0 always: it reports, it does not judge.
"""
import os
import re
import sys

DEFAULT_FOLDERS = ["Sources/StreamStoreFormat", "Sources/StreamStoreLog", "Sources/StreamStore", "Sources/StreamStoreKafka", "Sources/StreamStoreOutbox", "Sources/StreamStoreMessaging"]
DECLARATION = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:public|open)\s+(?!(?:import|extension)\b)")
# Lines that qualify the declaration below them: attributes, and modifiers on a line of their own.
ATTRIBUTE = re.compile(r"^\s*(?:@[\w.]+|nonisolated(?:\([^)]*\))?\s*$)")


ENUM_CASE = re.compile(r"^\s*case\s+[A-Za-z_]")
PUBLIC_ENUM = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*public\s+(?:indirect\s+)?enum\b")


def indent(line):
    return len(line) - len(line.lstrip())


def is_case_of_public_enum(lines, number):
    """A `case` line whose enclosing block (the nearest line above with less indent) is a public
    enum: a public declaration without the word. Cases of a `switch` sit inside a function."""
    line = lines[number]
    if not ENUM_CASE.match(line):
        return False
    above = number - 1
    while above >= 0 and (not lines[above].strip() or indent(lines[above]) >= indent(line)):
        above -= 1
    return above >= 0 and bool(PUBLIC_ENUM.match(lines[above]))


def is_spi_file(lines):
    top_level = [number for number, line in enumerate(lines) if DECLARATION.match(line) and indent(line) == 0]

    def is_spi(number):
        return lines[number].startswith("@_spi(") or (number > 0 and lines[number - 1].startswith("@_spi("))

    return bool(top_level) and all(is_spi(number) for number in top_level)


def undocumented(path):
    with open(path, encoding="utf-8") as file:
        lines = file.read().split("\n")
    for number, line in enumerate(lines):
        if not DECLARATION.match(line) and not is_case_of_public_enum(lines, number):
            continue
        above = number - 1
        while above >= 0 and ATTRIBUTE.match(lines[above]) and not DECLARATION.match(lines[above]):
            above -= 1
        previous = lines[above].strip() if above >= 0 else ""
        if previous.startswith("///") or previous.endswith("*/"):
            yield number + 1, line.strip(), True
        else:
            yield number + 1, line.strip(), False


def main():
    arguments = [argument for argument in sys.argv[1:] if argument != "--count"]
    count_only = "--count" in sys.argv[1:]
    folders = arguments or DEFAULT_FOLDERS
    total = missing = 0
    for folder in folders:
        folder_total = folder_missing = spi_files = 0
        for root, _, names in sorted(os.walk(folder)):
            for name in sorted(names):
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as file:
                    if is_spi_file(file.read().split("\n")):
                        spi_files += 1
                        continue
                for number, text, documented in undocumented(path):
                    folder_total += 1
                    if not documented:
                        folder_missing += 1
                        if not count_only:
                            print(f"{path}:{number}: {text}")
        spi = f" ({spi_files} file{'s' if spi_files != 1 else ''} of @_spi declarations left out)" if spi_files else ""
        print(f"{folder}: {folder_missing} of {folder_total} public declarations undocumented{spi}", file=sys.stderr)
        total += folder_total
        missing += folder_missing
    print(f"total: {missing} of {total} public declarations undocumented", file=sys.stderr)
    # A gate for make test: every public declaration of the library modules has a doc comment.
    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
