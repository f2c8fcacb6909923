p6 accept 1-65535
