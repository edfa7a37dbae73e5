print("playcount-bench: not built yet")
