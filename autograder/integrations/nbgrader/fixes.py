"""Two fixes for nbgrader 0.9.6 preprocessors, used by the course's nbgrader_config.py.

Both keep nbgrader's behaviour except where it fails a whole submission because a
student tampered with cells:

- A duplicated cell (the same grade_id twice): ``DeduplicateIds`` keeps the grade_id on
  the last copy and sets the others' nbgrader metadata to ``{}``, which
  ``CheckCellMetadata`` then rejects as an "old metadata version" (jupyter/nbgrader#1083).
  :class:`DropDuplicateIds` removes the emptied key instead: the extra copy still runs,
  as a plain cell.
- A deleted grade cell whose previous source cell is locked but not graded (every
  ``test_*`` cell here follows a locked ``check_*`` cell): ``add_missing_cells`` raises
  ``KeyError``. :class:`RestoreCells` puts the cell back after the nearest earlier
  source cell the submission still has.
"""
from nbgrader.preprocessors import DeduplicateIds, OverwriteCells


class DropDuplicateIds(DeduplicateIds):
    """DeduplicateIds, minus the empty metadata that CheckCellMetadata rejects."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


class RestoreCells(OverwriteCells):
    """OverwriteCells whose missing grade cells go back after the nearest earlier
    source cell still present (the gradebook lists source cells in notebook order)."""

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        sources = {cell.name: cell for cell in source_nb.source_cells}  # in notebook order
        order = list(sources)
        solutions = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in sorted(source_nb.grade_cells, key=lambda cell: order.index(cell.name)):
            present = {cell.metadata.get("nbgrader", {}).get("grade_id"): index
                       for index, cell in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            earlier = [name for name in order[:order.index(grade_cell.name)] if name in present]
            cell = self.missing_cell_transform(sources[grade_cell.name], grade_cell.max_score,
                                               is_solution=grade_cell.name in solutions)
            nb.cells.insert(present[earlier[-1]] + 1 if earlier else 0, cell)
        return nb, resources
