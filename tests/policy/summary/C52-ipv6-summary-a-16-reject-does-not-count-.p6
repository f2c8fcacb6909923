p6 reject 443
