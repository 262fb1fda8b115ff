def build():
    return {"model": "LogisticRegression"}
