"""A linear program as named blocks of numpy arrays, solved by HiGHS, warm-started.

Owns `LpBuilder` (column and row blocks, matrix coordinates -> one column-wise
matrix), `Lp`, `LpSession` (one HiGHS instance: solve, change bounds, solve
again from the last basis) and `WarmStart`.

A block is either per slot (one column or row per slot of the horizon) or a
scalar group. A `WarmStart` keeps the final basis by block: the next plan, whose
horizon starts k slots later, takes each per-slot block's status shifted by k
(the new tail repeats the last slot) and each scalar block as it was, when the
block has the same name and size. HiGHS accepts such a basis as an "alien" one
and repairs it; a re-plan 15 minutes later then needs a handful of simplex
iterations instead of hundreds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Status = highspy.HighsBasisStatus

INF = highspy.kHighsInf
CONTINUOUS = 0
INTEGER = 1
SEMI_CONTINUOUS = 2
_LOWER = highspy.HighsBasisStatus.kLower
_BASIC = highspy.HighsBasisStatus.kBasic


@dataclass(frozen=True, slots=True)
class Block:
    """A named run of columns (or rows).

    A per-slot block has one per slot from slot `first_slot` on (consecutive
    slots); a scalar block has `first_slot` None.
    """

    name: str
    start: int
    size: int
    first_slot: int | None

    @property
    def per_slot(self) -> bool:
        return self.first_slot is not None


@dataclass(frozen=True, slots=True, eq=False)
class WarmStart:
    """The final basis of a plan, by block, for the next plan to start from."""

    quarter: int  # the first slot's quarter hour (since the epoch)
    slots: int
    col_blocks: tuple[Block, ...]
    row_blocks: tuple[Block, ...]
    col_status: tuple[Status, ...]
    row_status: tuple[Status, ...]


@dataclass(slots=True)
class Lp:
    """One model as HiGHS takes it (column-wise), with its block layout."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    integrality: IntArray
    row_lower: FloatArray
    row_upper: FloatArray
    starts: IntArray
    index: IntArray
    value: FloatArray
    col_blocks: tuple[Block, ...]
    row_blocks: tuple[Block, ...]

    @property
    def mixed_integer(self) -> bool:
        return bool(np.any(self.integrality != CONTINUOUS))


@dataclass(slots=True)
class LpBuilder:
    """Collects column blocks, row blocks and matrix coordinates."""

    slots: int
    cols: int = 0
    rows: int = 0
    col_blocks: list[Block] = field(default_factory=list)
    row_blocks: list[Block] = field(default_factory=list)
    cost: list[FloatArray] = field(default_factory=list)
    lower: list[FloatArray] = field(default_factory=list)
    upper: list[FloatArray] = field(default_factory=list)
    integrality: list[IntArray] = field(default_factory=list)
    row_lower: list[FloatArray] = field(default_factory=list)
    row_upper: list[FloatArray] = field(default_factory=list)
    entry_rows: list[IntArray] = field(default_factory=list)
    entry_cols: list[IntArray] = field(default_factory=list)
    entry_values: list[FloatArray] = field(default_factory=list)

    def add_cols(
        self,
        name: str,
        lower: float | FloatArray,
        upper: float | FloatArray,
        cost: float | FloatArray,
        *,
        count: int | None = None,
        first_slot: int = 0,
        kind: int = CONTINUOUS,
    ) -> IntArray:
        """A block of columns: one per slot (from `first_slot`, `count` of them or
        to the horizon's end), or with `first_slot` -1 a scalar group of `count`."""
        size = (self.slots - first_slot) if count is None else count
        index = np.arange(self.cols, self.cols + size, dtype=np.int64)
        anchor = None if first_slot < 0 else first_slot
        self.col_blocks.append(Block(name, self.cols, size, anchor))
        self.cols += size
        self.lower.append(_vector(lower, size))
        self.upper.append(_vector(upper, size))
        self.cost.append(_vector(cost, size))
        self.integrality.append(np.full(size, kind, dtype=np.int64))
        return index

    def add_rows(
        self,
        name: str,
        lower: float | FloatArray,
        upper: float | FloatArray,
        *,
        count: int | None = None,
    ) -> IntArray:
        """A block of rows: one per slot, or a scalar group of `count`."""
        size = self.slots if count is None else count
        index = np.arange(self.rows, self.rows + size, dtype=np.int64)
        self.row_blocks.append(Block(name, self.rows, size, None if count else 0))
        self.rows += size
        self.row_lower.append(_vector(lower, size))
        self.row_upper.append(_vector(upper, size))
        return index

    def add_entries(
        self, rows: IntArray, cols: IntArray, values: float | FloatArray
    ) -> None:
        """Matrix coefficients (broadcast together); no (row, col) twice."""
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        if len(r) != len(c):
            if len(r) == 1:
                r = np.full(len(c), r[0], dtype=np.int64)
            else:
                raise ValueError("rows and columns of different lengths")
        self.entry_rows.append(r)
        self.entry_cols.append(c)
        if isinstance(values, np.ndarray):
            self.entry_values.append(values.astype(np.float64, copy=False).ravel())
        else:
            self.entry_values.append(np.full(len(c), float(values)))

    def finish(self) -> Lp:
        rows = np.concatenate(self.entry_rows)
        cols = np.concatenate(self.entry_cols)
        values = np.concatenate(self.entry_values)
        order = np.lexsort((rows, cols))
        counts = np.bincount(cols, minlength=self.cols)
        starts = np.zeros(self.cols + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        return Lp(
            cost=np.concatenate(self.cost),
            lower=np.concatenate(self.lower),
            upper=np.concatenate(self.upper),
            integrality=np.concatenate(self.integrality),
            row_lower=np.concatenate(self.row_lower),
            row_upper=np.concatenate(self.row_upper),
            starts=starts,
            index=rows[order],
            value=values[order],
            col_blocks=tuple(self.col_blocks),
            row_blocks=tuple(self.row_blocks),
        )


def _vector(value: float | FloatArray, size: int) -> FloatArray:
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)  # a copy: bounds change in place later
    return np.full(size, float(value))


class SolverError(Exception):
    """HiGHS rejected the model or ended without a solution."""


class LpSession:
    """One HiGHS instance holding one model; re-solves start from the last basis."""

    def __init__(
        self, lp: Lp, *, time_limit: float = math.inf, mip_rel_gap: float = 1e-4
    ) -> None:
        self.lp = lp
        self.seconds = 0.0
        self.hit_time_limit = False
        self._highs = h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        large = len(lp.cost) > 50_000
        # Presolve costs more than it saves on a few thousand columns (and would
        # discard the warm start); on a year-long bound it pays.
        h.setOptionValue("presolve", "on" if large or lp.mixed_integer else "off")
        if lp.mixed_integer and math.isfinite(time_limit):
            h.setOptionValue("time_limit", time_limit)
            h.setOptionValue("mip_rel_gap", mip_rel_gap)
        elif large:
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "off")
        status = h.passModel(
            len(lp.cost),
            len(lp.row_lower),
            len(lp.value),
            int(highspy.MatrixFormat.kColwise.value),
            int(highspy.ObjSense.kMinimize.value),
            0.0,
            lp.cost,
            lp.lower,
            lp.upper,
            lp.row_lower,
            lp.row_upper,
            lp.starts[:-1].astype(np.int32),
            lp.index.astype(np.int32),
            lp.value,
            lp.integrality.astype(np.int32),
        )
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS rejected the model")

    def warm_start(self, warm: WarmStart | None, quarter: int) -> None:
        """Start from `warm`'s basis, shifted to a horizon starting at `quarter`."""
        if warm is None or self.lp.mixed_integer:
            return
        shift = quarter - warm.quarter
        if shift < 0 or shift >= warm.slots:
            return
        cols = _shifted(
            warm.col_blocks, warm.col_status, self.lp.col_blocks, shift, _LOWER
        )
        rows = _shifted(
            warm.row_blocks, warm.row_status, self.lp.row_blocks, shift, _BASIC
        )
        basis = highspy.HighsBasis()
        basis.col_status = cols
        basis.row_status = rows
        basis.alien = True
        basis.valid = True
        self._highs.setBasis(basis)

    def set_bounds(self, cols: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        self._highs.changeColsBounds(
            len(cols),
            cols.astype(np.int32),
            lower.astype(np.float64),
            upper.astype(np.float64),
        )
        self.lp.lower[cols] = lower
        self.lp.upper[cols] = upper

    def run(self) -> FloatArray:
        """Solve; the column values (`hit_time_limit` says a MIP stopped early).

        An LP that ends without an optimum from a warm start (a basis HiGHS could
        not repair) is solved once more from scratch, with presolve.
        """
        h = self._highs
        h.run()
        self.seconds += float(h.getRunTime())
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal and not self.lp.mixed_integer:
            h.clearSolver()
            h.setOptionValue("presolve", "on")
            h.run()
            self.seconds += float(h.getRunTime())
            status = h.getModelStatus()
        solution = h.getSolution()
        if status == highspy.HighsModelStatus.kOptimal:
            return np.asarray(solution.col_value, dtype=np.float64)
        if status == highspy.HighsModelStatus.kTimeLimit and solution.value_valid:
            self.hit_time_limit = True
            return np.asarray(solution.col_value, dtype=np.float64)
        raise SolverError(f"HiGHS ended with {h.modelStatusToString(status)}")

    def objective(self) -> float:
        return float(self._highs.getInfo().objective_function_value)

    def basis(self, quarter: int, slots: int) -> WarmStart | None:
        """The current basis as a `WarmStart` (None after a MIP)."""
        if self.lp.mixed_integer:
            return None
        basis = self._highs.getBasis()
        if not basis.valid:
            return None
        return WarmStart(
            quarter=quarter,
            slots=slots,
            col_blocks=self.lp.col_blocks,
            row_blocks=self.lp.row_blocks,
            col_status=tuple(basis.col_status),
            row_status=tuple(basis.row_status),
        )


def _shifted(
    old_blocks: tuple[Block, ...],
    old_status: tuple[Status, ...],
    new_blocks: tuple[Block, ...],
    shift: int,
    default: Status,
) -> list[Status]:
    """New statuses by block name: per-slot blocks matched by absolute slot
    (`shift` slots have passed; slots beyond the old block repeat its last
    status), scalar blocks copied when their size is unchanged."""
    old = {block.name: block for block in old_blocks}
    status: list[Status] = []
    for block in new_blocks:
        prior = old.get(block.name)
        size = block.size
        if prior is None or prior.size == 0 or prior.per_slot != block.per_slot:
            status.extend([default] * size)
        elif block.first_slot is not None and prior.first_slot is not None:
            # New column i is absolute slot shift + first + i in the old horizon.
            lo = block.first_slot + shift - prior.first_slot  # index into prior
            before = min(size, max(0, -lo))
            status.extend([default] * before)
            begin = max(0, lo)
            kept = list(old_status[prior.start + begin : prior.start + prior.size])
            kept = kept[: size - before]
            status.extend(kept)
            status.extend(
                [old_status[prior.start + prior.size - 1]] * (size - before - len(kept))
            )
        elif prior.size == size:
            status.extend(old_status[prior.start : prior.start + size])
        else:
            status.extend([default] * size)
    return status
