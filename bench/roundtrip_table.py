"""Prints roundtrip_bench's JSON as one row per (transport, size): sockit against raw.

Wall time is what a caller waits for a round trip; CPU time is what the benchmark thread
spends on it (user and kernel), which scheduling noise on a shared machine disturbs less.
Usage: python3 roundtrip_table.py RESULTS.json
"""
import json
import sys


def aggregates(benchmarks):
    """{(transport, variant, size): {"median": entry, "cv": entry}} from aggregate entries."""
    found = {}
    for entry in benchmarks:
        if entry.get("run_type") != "aggregate":
            continue
        # run_name is "roundtrip/<transport>/<variant>/<size>/" and then min_time and the like.
        _, transport, variant, size = entry["run_name"].split("/")[:4]
        found.setdefault((transport, variant, int(size)), {})[entry["aggregate_name"]] = entry
    return found


def overhead(ours, raw):
    return (ours / raw - 1) * 100


def main(path):
    with open(path) as f:
        results = aggregates(json.load(f)["benchmarks"])
    print("{:<9} {:>6} {:>13} {:>10} {:>11} {:>15} {:>16}".format(
        "transport", "size", "sockit ns/op", "raw ns/op", "overhead %", "cpu overhead %",
        "cv % sockit/raw"))
    for transport, size in sorted({(transport, size) for transport, _, size in results}):
        ours = results[(transport, "sockit", size)]
        raw = results[(transport, "raw", size)]
        for entry in (ours["median"], raw["median"]):
            assert entry["time_unit"] == "ns", entry["time_unit"]
        wall = (ours["median"]["real_time"], raw["median"]["real_time"])
        cpu = (ours["median"]["cpu_time"], raw["median"]["cpu_time"])
        spread = "{:.0f}/{:.0f}".format(ours["cv"]["real_time"] * 100, raw["cv"]["real_time"] * 100)
        print("{:<9} {:>6} {:>13.0f} {:>10.0f} {:>+11.1f} {:>+15.1f} {:>16}".format(
            transport, size, *wall, overhead(*wall), overhead(*cpu), spread))


if __name__ == "__main__":
    main(sys.argv[1])
