"""Pure numpy/scipy maths on landmark series: cleaning, angles, metrics, feedback.

No video, model or GPU library (an import contract keeps it so). The entry point is
:func:`dance_analysis.analysis.series.analyze_series`. This ``__init__`` imports
nothing, so that a light piece (``angles``, used when drawing every frame) does not
pull in scipy.
"""
