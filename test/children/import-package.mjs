// Imports the package by its name, as a user would, and prints what it exports.
import * as sessionlog from 'sessionlog';

console.log(JSON.stringify(Object.keys(sessionlog).sort()));
