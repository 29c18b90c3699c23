"""The mappings of deleted files in this process's own /proc/self/maps: the
truth the scenario programs write down for their tests."""


def deleted_mappings():
    """Each "(deleted)" line as {"address", "bytes", "path"}, in the kernel's order."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if not line.rstrip("\n").endswith(" (deleted)"):
                continue
            fields = line.split(None, 5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            found.append({"address": "0x%x" % start, "bytes": end - start, "path": fields[5].rstrip("\n")[: -len(" (deleted)")]})
    return found
