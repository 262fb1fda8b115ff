import time

print("starting a long epoch", flush=True)
time.sleep(30)
