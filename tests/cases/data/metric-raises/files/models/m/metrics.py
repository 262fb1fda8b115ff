def lift(y_true, y_pred, y_score):
    base = 0
    return 1 / base
