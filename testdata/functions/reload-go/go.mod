module reloadgo

go 1.26
