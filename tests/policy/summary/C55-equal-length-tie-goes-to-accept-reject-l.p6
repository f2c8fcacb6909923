p6 reject 1-10
