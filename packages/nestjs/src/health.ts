export const HEALTH = 1;
