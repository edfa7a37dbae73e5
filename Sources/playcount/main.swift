// playcount: the control shell. Filled in by the shell issue.
print("playcount")
