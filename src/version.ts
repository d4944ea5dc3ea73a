/** The regplan version: the one place it is written besides package.json (a test keeps the two equal). */
export const REGPLAN_VERSION = '0.1.0';
