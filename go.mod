module github.com/tipring/tipring

go 1.24.0
