"""Progress bars for long loads: shown (tqdm) only when more than a million rows are involved."""

from __future__ import annotations

from tqdm.auto import tqdm

THRESHOLD = 1_000_000


class Progress:
    """A row counter that draws a tqdm bar when ``total`` exceeds :data:`THRESHOLD`."""

    def __init__(self, total: int, desc: str):
        self.bar = tqdm(total=total, desc=desc, unit="rows", unit_scale=True, leave=False) \
            if total > THRESHOLD else None

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
