p6 accept 2-65534
