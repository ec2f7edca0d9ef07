module lookout

go 1.26.8
