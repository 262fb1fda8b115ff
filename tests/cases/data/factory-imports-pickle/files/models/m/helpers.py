import pickle

LOADED = pickle
