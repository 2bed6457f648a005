"""The clip's music: tempo, beats, downbeats and 8-counts (issue 8).

Modules: ``audio`` decodes the first audio track (the only PyAV user here), ``styles``
is the table of dance styles and their tempi, ``beats`` finds tempo, beats and bar
phase with numpy alone, ``model`` holds the outcome (:class:`Music`) and the counts,
and ``analyze`` ties them together. Importing the package costs numpy only.
"""
