"""Tables of docs/SALIENCY.md from the files docs/saliency/run.sh writes (python3, no packages)."""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/saliency-study")
seconds = {}
for name in ("train-seconds.txt", "saliency-seconds.txt"):
    path = out / name
    if path.exists():
        for line in path.read_text().split("\n"):
            if line.strip():
                key, value = line.split()
                seconds[key] = float(value)

print("| model | 10-NN | 1-NN | trustworthiness | classifier | training s |")
print("| --- | --- | --- | --- | --- | --- |")
for path in sorted((out / "eval").glob("*.json")):
    e = json.loads(path.read_text())
    print(f"| {path.stem} | {e['knn10_accuracy']:.4f} | {e['knn1_accuracy']:.4f} | "
          f"{e['trustworthiness']:.4f} | {e['classifier_accuracy']:.4f} | {seconds.get(path.stem, float('nan')):.0f} |")
print()
print("| maps | pairs | follow map / random | follow map / gradient | deletion area | insertion area "
      "| insertion - deletion | infidelity (gauss) | infidelity (4x4) | max-sensitivity | seconds |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}g}"


for path in sorted((out / "maps").glob("*.json")):
    rows = [e["metrics"] for e in json.loads(path.read_text())["evaluation"]]
    follow = [m["follow_map"] / m["follow_random_mean_abs"] for m in rows if m["follow_random_mean_abs"]]
    vs_grad = [m["follow_map"] / m["follow_gradient"] for m in rows if m["follow_gradient"]]
    gap = [m["insertion_area"] - m["deletion_area"] for m in rows]
    print(f"| {path.stem} | {len(rows)} | {fmt(med(follow))} | {fmt(med(vs_grad))} "
          f"| {fmt(med([m['deletion_area'] for m in rows]))} | {fmt(med([m['insertion_area'] for m in rows]))} "
          f"| {fmt(med(gap))} | {fmt(med([m['infidelity_gaussian'] for m in rows]))} "
          f"| {fmt(med([m['infidelity_square'] for m in rows]))} | {fmt(med([m['max_sensitivity'] for m in rows]))} "
          f"| {seconds.get(path.stem, float('nan')):.1f} |")
