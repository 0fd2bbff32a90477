"""Does watching a training slow it down? The same run trained in the app, watched on Train and not watched.

On one `streamlit run app.py` server (headless Chromium), the same training (bundled synthetic sample, opened from a
Train link) is started from the Train page repeatedly, alternating:
  - watched: the tab stays on Train, whose live panel redraws the progress bar and the loss chart while it trains;
  - away: the tab moves to Runs right after the click (the sidebar still follows the job, once a second).
Each run's own training time (metrics.json's train_seconds, the trainer's loop) is printed with the ratio watched /
away in each pair: the live panel runs in the server's process, beside the training thread.

Streamlit collects garbage after every script run (`runner.postScriptGC`), the live panel's polls included; the
server leaves what it imported at start-up out of those collections (`mtlrec.jobs.freeze_imports`). With --compare-gc
it measures twice, on a server with MTLREC_GC_FREEZE=0 (the imports scanned by every collection, as before) and on
one as shipped: the before and after, in one run.

    python benchmarks/bench_watch.py                     # tiny, 3 epochs, 3 pairs
    python benchmarks/bench_watch.py --compare-gc --pairs 2
    python benchmarks/bench_watch.py --size small --epochs 2 --pairs 2

Needs Debian's `chromium` and the `playwright` Python package (no browser download).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import BackgroundLoad, machine, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser_util import Server, browser_page, chromium_path, wait_for_title, wait_until_idle  # noqa: E402


def newest_metrics(store: Path, known: set[str]) -> dict | None:
    """metrics.json of the run not in `known` once it has one with a status other than running."""
    for folder in (store / "runs").glob("*"):
        path = folder / "metrics.json"
        if folder.name not in known and path.is_file():
            try:
                metrics = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if metrics.get("train_seconds") is not None:
                return metrics
    return None


def one_training(page, server: Server, link: str, store: Path, watched: bool) -> dict:
    known = {p.name for p in (store / "runs").glob("*")}
    page.goto(server.url + link)
    wait_for_title(page, "Train")
    wait_until_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    if not watched:
        page.wait_for_timeout(300)  # the click's run has started the job
        page.goto(server.url + "/runs")
        wait_for_title(page, "Runs")
    deadline = time.monotonic() + 600
    while (metrics := newest_metrics(store, known)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the training did not end within 10 minutes")
        page.wait_for_timeout(250)
    return metrics


def pairs(executable: str, link: str, n: int, env: dict[str, str]) -> tuple[list[list], list[float], float | None]:
    """n watched/away pairs on one fresh server: table rows, the ratios watched / away, other load (cores)."""
    rows, ratios = [], []
    with tempfile.TemporaryDirectory(prefix="mtlrec-bench-watch-") as tmp, BackgroundLoad() as load:
        home = Path(tmp)
        server = Server(home / "store", home / "server.log", env=env)
        with browser_page(executable) as page:
            server.start()
            try:
                one_training(page, server, link, home / "store", watched=False)  # warm-up: first optimiser, caches
                for pair in range(n):
                    order = (True, False) if pair % 2 == 0 else (False, True)
                    seconds = {}
                    for watched in order:
                        metrics = one_training(page, server, link, home / "store", watched)
                        seconds[watched] = float(metrics["train_seconds"])
                        rows.append([pair + 1, "watched" if watched else "away", f"{seconds[watched]:.2f}",
                                     f"{metrics.get('samples_per_second', float('nan')):,.0f}"])  # fmt: skip
                    ratios.append(seconds[True] / seconds[False])
            except BaseException:
                print(server.output()[-4000:], file=sys.stderr)
                raise
            finally:
                server.stop()
    return rows, ratios, load.cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=3, help="watched/away pairs, alternating which goes first")
    parser.add_argument("--compare-gc", action="store_true", help="also on a server whose imports are not frozen")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        sys.exit("Debian's chromium is not installed (apt-get install chromium)")
    link = f"/train?data=synthetic&size={args.size}&epochs={args.epochs}&patience=0"
    print(f"machine: {machine()}")
    print(f"training: sample:synthetic, shared_bottom {args.size}, {args.epochs} epochs (Train link {link})")
    settings = [("as shipped (imports frozen out of the post-run collections)", {})]
    if args.compare_gc:
        settings.insert(0, ("imports not frozen (MTLREC_GC_FREEZE=0, as before)", {"MTLREC_GC_FREEZE": "0"}))
    summary = []
    for label, env in settings:
        rows, ratios, cores = pairs(executable, link, args.pairs, env)
        print(f"\n{label}:")
        print_table(["pair", "tab", "train s", "rows/s"], rows)
        line = (
            f"watched / away training time: {', '.join(f'{r:.2f}' for r in ratios)} "
            f"(median {statistics.median(ratios):.2f} x); other load: {cores if cores is not None else float('nan'):.1f} "
            "cores"
        )
        print(line)
        summary.append(f"{label}: {line}")
    if len(summary) > 1:
        print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
