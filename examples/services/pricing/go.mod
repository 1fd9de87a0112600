module meshtrace.dev/examples/pricing

go 1.21
