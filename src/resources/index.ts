// Loads every resource module so their undo handlers are registered (rollback of crashed runs).
// Each resource module adds one import line here.
export {};
