/** The two shells this plugin speaks; they share quoting and most syntax. */
export type Dialect = 'bash' | 'zsh';
