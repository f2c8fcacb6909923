p6 accept 80
