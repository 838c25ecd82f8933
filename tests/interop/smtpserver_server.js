// smtpserver_server.js - Nodemailer's smtp-server (npm package smtp-server,
// installed into the interop cache by smtpserver.py) as several listeners,
// each configured as Node apps and test tools embed it, so its own reply
// texts (smtp-connection.js, sasl.js) meet smtpdx.
//
// argv: STATE_DIR CERT_DIR PORTS(JSON name -> port).  NODE_PATH points at
// the cache's node_modules.  Prints {"name": port, ...} as one JSON line
// once every listener listens; serves until stdin closes.
'use strict';

const fs = require('fs');
const path = require('path');
const net = require('net');
const { SMTPServer } = require('smtp-server');

const [STATE, CERTS, PORTS] = process.argv.slice(2);
const ports = JSON.parse(PORTS);
const DOMAIN = 'smtp-server.test';
const HOST = 'mx.' + DOMAIN;
const USER = 'alice';
const PASSWORD = fs.readFileSync(path.join(STATE, 'password'), 'utf8').trim();
const tls = name => ({
    key: fs.readFileSync(path.join(CERTS, 'leaf.key')),
    cert: fs.readFileSync(path.join(CERTS, name))
});

// onAuth as its documentation writes it; a wrong password gets the
// library's own "535 5.7.8 Error: Authentication credentials invalid"
// (sasl.js: a response without a user)
function onAuth(auth, session, callback) {
    if (auth.method === 'XOAUTH2') {
        // the README's XOAUTH2 pattern: a refused token answered with
        // the error JSON (a 334), then 535 to the client's empty reply
        if (auth.username === USER && auth.accessToken === PASSWORD) {
            return callback(null, { user: USER });
        }
        return callback(null, {
            data: { status: '401', schemes: 'bearer mac', scope: 'my_smtp_access_scope_name' }
        });
    }
    if (auth.username === USER && auth.password === PASSWORD) {
        return callback(null, { user: USER });
    }
    return callback(null, {});
}

// Recipients, in the words apps give smtp-server (new Error(text), the
// code from err.responseCode, 550 by default; the library adds its own
// enhanced code by the reply code alone: 550 -> 5.1.1 whatever the cause).
function onRcptTo(address, session, callback) {
    const addr = address.address.toLowerCase();
    const [local, domain] = [addr.slice(0, addr.lastIndexOf('@')), addr.slice(addr.lastIndexOf('@') + 1)];
    let err = null;
    if (domain !== DOMAIN) {
        if (!session.user) {
            err = new Error('Relay access denied');
        }
    } else if (local === 'full') {
        // examples/server.js: 'Insufficient channel storage: ' + address, 452
        err = new Error('Insufficient channel storage: ' + address.address);
        err.responseCode = 452;
    } else if (local.startsWith('deny')) {
        // examples/server.js
        err = new Error('Not accepted');
    } else if (local !== USER) {
        err = new Error('Mailbox ' + address.address + ' does not exist');
    }
    callback(err);
}

function onMailFrom(address, session, callback) {
    if (/^deny/i.test(address.address)) {
        return callback(new Error('Not accepted'));   // examples/server.js
    }
    callback();
}

// onData as in examples/server.js: the size check after the stream ends
function onData(stream, session, callback) {
    const out = fs.createWriteStream(path.join(STATE, 'mailbox'), { flags: 'a' });
    stream.pipe(out);
    stream.on('end', () => {
        if (stream.sizeExceeded) {
            const err = new Error('Error: message exceeds fixed maximum message size 200 B');
            err.responseCode = 552;
            return callback(err);
        }
        callback(null, 'Message queued as interop');
    });
}

const COMMON = {
    name: HOST, logger: false, disableReverseLookup: true,
    onAuth, onRcptTo, onMailFrom, onData
};

const SERVERS = {
    // submission: STARTTLS, AUTH required (authOptional false, the default)
    sub: { ...tls('chain.pem') },
    // implicit TLS
    implicit: { ...tls('chain.pem'), secure: true },
    // AUTH optional: recipients decide (onRcptTo)
    open: { ...tls('chain.pem'), authOptional: true },
    // SIZE advertised with its number: refused at MAIL
    size: { ...tls('chain.pem'), authOptional: true, size: 200 },
    // SIZE without a number (hideSize): refused after the message; with
    // enhanced status codes (on since 3.14, off by default)
    sizehidden: {
        ...tls('chain.pem'), authOptional: true, size: 200, hideSize: true,
        hideENHANCEDSTATUSCODES: false
    },
    // AUTH optional, enhanced status codes on: the library puts its own
    // code on every reply by number alone (550 -> 5.1.1, whatever the cause)
    enhanced: { ...tls('chain.pem'), authOptional: true, hideENHANCEDSTATUSCODES: false },
    // no STARTTLS at all: AUTH in plaintext only
    nostarttls: { disabledCommands: ['STARTTLS'] },
    // no AUTH at all
    noauth: { ...tls('chain.pem'), disabledCommands: ['AUTH'] },
    // STARTTLS works but is not advertised
    hidestarttls: { ...tls('chain.pem'), hideSTARTTLS: true },
    // LMTP mode: EHLO and HELO refused ("not allowed in LMTP server")
    lmtp: { lmtp: true, authOptional: true },
    // OAuth 2.0 only (authMethods ['XOAUTH2'])
    oauth: { ...tls('chain.pem'), authMethods: ['XOAUTH2'] },
    // maxClients 1, and one client (ours, held below) already there
    busy: { ...tls('chain.pem'), maxClients: 1 },
    // a listener behind a load balancer: waits for a PROXY protocol header
    proxy: { ...tls('chain.pem'), useProxy: true },
    // refuses every client at connect (onConnect), as its docs show
    refuse: {
        ...tls('chain.pem'),
        onConnect(session, callback) {
            const err = new Error('Your IP is not allowed to connect');
            err.responseCode = 554;
            callback(err);
        }
    }
};

// smtp-server 3.18 leaves a socket without an error handler while it
// reads a PROXY header (useProxy): a client that resets the connection
// there (smtpdx's implicit-TLS probe) would take the whole process, and
// every other listener, down.  Logged instead.
process.on('uncaughtException', e => {
    process.stderr.write(`uncaught: ${e.code || ''} ${e.message}\n`);
});

const servers = [];
let listening = 0;
let failed = false;
for (const [name, opts] of Object.entries(SERVERS)) {
    const srv = new SMTPServer({ ...COMMON, ...opts });
    // before listening: the port (taken: the runner picks new ones);
    // afterwards a client's error (a probe that hangs up mid-handshake),
    // which smtp-server reports here too: logged, never fatal
    srv.on('error', e => {
        if (listening < Object.keys(SERVERS).length) {
            if (failed) {
                return;
            }
            failed = true;
            process.stdout.write(JSON.stringify({ error: `${name}: port ${ports[name]}: ${e.message}` }) + '\n');
            process.exit(1);
        }
        process.stderr.write(`${name}: ${e.code || ''} ${e.message}\n`);
    });
    srv.listen(ports[name], '127.0.0.1', () => {
        const ready = () => {
            if (++listening === Object.keys(SERVERS).length && !failed) {
                process.stdout.write(JSON.stringify(ports) + '\n');
            }
        };
        if (name !== 'busy') {
            return ready();
        }
        // the one client maxClients allows, held open until the end
        const hold = net.connect(ports[name], '127.0.0.1');
        hold.on('error', () => {});
        hold.once('data', ready);   // its greeting: it counts now
        servers.push({ close: cb => { hold.destroy(); cb(); } });
    });
    servers.push(srv);
}
process.stdin.resume();
process.stdin.on('end', () => {
    let left = servers.length;
    for (const s of servers) {
        s.close(() => { if (--left === 0) process.exit(0); });
    }
    setTimeout(() => process.exit(0), 3000).unref();
});
