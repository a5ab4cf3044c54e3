module github.com/amopo-engine/amopo

go 1.26
