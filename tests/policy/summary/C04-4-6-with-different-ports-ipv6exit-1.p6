p6 accept 443
