"""Our own BlazePose graph (issue 11): MediaPipe's two networks, read from the installed
wheel at run time, run on torch (CPU, CUDA, ROCm, MPS) or LiteRT (XNNPACK), and the graph
around them written here: detection, regions of interest, landmarks, smoothing and the
tracking of every person in the frame.

Nothing in this package is imported at start-up; torch and ai_edge_litert are imported
only by the modules that run them.
"""
