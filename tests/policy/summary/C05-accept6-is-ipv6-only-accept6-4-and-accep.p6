p6 accept 22
