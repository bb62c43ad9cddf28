"""nbgrader configuration for the tfkit course (the course root is this folder)."""
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

here = os.path.dirname(os.path.abspath(__file__))

# Kernels inherit nbgrader's environment. TF_CPP_MIN_LOG_LEVEL must be set before
# TensorFlow is imported, or its C++ log lines land on stderr, and nbgrader gives 0
# to a test cell with any stderr output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

c.CourseDirectory.course_id = "tfkit"
c.CourseDirectory.root = here
# nbgrader 0.9 has no `db_assignments` option any more (it warns and ignores it):
# generate_assignment adds the assignment to the gradebook itself.
# generate_solution writes here (nbgrader's default is "solution").
c.CourseDirectory.solution_directory = "solutions"

# One kernel for every step, the one `make env` installs into the environment.
c.Execute.kernel_name = "python3"
# Importing TensorFlow takes ~4 s and the demonstration cells a few more: the 30 s
# default is tight on a loaded grading server, but an endless loop should still not
# hold a submission for minutes.
c.Execute.timeout = 120
# Some TensorFlow lines reach stderr whatever the log level (absl's start-up notice,
# oneDNN and CUDA probing). Drop exactly those, so they cannot zero a test cell;
# any other stderr output still counts as nbgrader intends.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (r"(?m)(WARNING: All log messages before absl::InitializeLog|"
                           r"^[IWE]\d{4} [\d:. ]+\S+\.cc:\d+\]|To enable the following instructions)")
# A student who deletes a graded cell gets it back from the gradebook instead of
# silently losing those points from the maximum.
c.OverwriteCells.add_missing_cells = True
# Feedback must not show hidden tests' code (nbgrader copies it there by default).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
]

# Two nbgrader 0.9.6 bugs fail a whole submission (autograde exits 1, every test cell
# scores 0) when a student duplicates a cell or deletes a test cell: the two
# replacements in autograder/integrations/nbgrader/fixes.py keep nbgrader's behaviour otherwise
# (see that module; tests/test_nbgrader.py checks both cases).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "autograder.integrations.nbgrader.fixes.DropDuplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.integrations.nbgrader.fixes.RestoreCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Grading of record happens in tfgrade's sandbox, never in nbgrader's kernel: nbgrader
# runs student code and hidden tests in one kernel, where a cell that replaces the
# grading function passes every test. SandboxedGrading takes Execute's place and gives
# each test cell the outputs nbgrader scores (autograder/integrations/nbgrader/sandboxed.py); the rest
# of the pipeline is nbgrader's own. `nbgrader autograde` is therefore sandboxed, and
# `tfgrade autograde` is the same pipeline with the submissions graded in parallel.
c.Autograde.autograde_preprocessors = [
    "autograder.integrations.nbgrader.sandboxed.SandboxedGrading",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# The seed and time limits of sandboxed grading (tfgrade's --seed, --time-scale, --cell-seconds).
c.SandboxedGrading.seed = 20211
c.SandboxedGrading.time_scale = 1.0
