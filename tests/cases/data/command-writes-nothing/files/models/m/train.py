print("trained, but forgot to write anything")
