print("playcount-nsqd: not built yet")
