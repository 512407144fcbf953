// Package layers holds no code: its test keeps the import rules of the
// README's code layout (format a leaf, x/sys/unix in internal/ptrace only,
// the injector deciding without ptrace, the pure packages doing no I/O),
// checked over every Go file of the module.
package layers
