module meshtrace.dev/examples/legacy/inventory

go 1.21
