process.on('exit', (c) => console.log('exit', c));
process.on('unhandledRejection', (e) => console.log('unhandled', e));
console.log('loading');
await import('./moderation.test.js');
console.log('loaded');
