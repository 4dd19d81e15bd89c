'use strict';
// A Dubbo2 (0xdabb, hessian2) provider from npm: sofa-rpc-node's RpcServer speaking the
// dubbo-remoting protocol, no registry. It serves the contract our dubbo2-consumer checks
// (examples/src/dubbo2_checks.rs):
//
//   org.apache.dubbo.sample.DemoService 1.0.0: sayHello(String) -> "Hello " + name,
//     echo(Object) -> its argument, fail(String) -> throws IllegalStateException(message),
//     plus $invoke (generic invocation), dispatching to the methods above;
//   org.apache.dubbo.sample.Greeter (unversioned, which Java-style consumers send as
//     "0.0.0"): sayHello(HelloRequest) -> HelloReply("Hello " + name, payload).
//
// Usage: node dubbo2_provider.js [--port N]   (prints "listening on 127.0.0.1:PORT")
//
// dubbo-remoting quirks worked around here: a thrown error becomes status 80 with a string
// body, so `fail` returns the exception object (sent as result flag 0); results that are
// falsy lose their result flag, so the contract never returns them.

const net = require('net');
const { RpcServer } = require('sofa-rpc-node').server;
const protocol = require('dubbo-remoting');

let port = 0;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--port') port = Number(argv[++i]);
}

const quiet = () => {};
const logger = { info: quiet, warn: console.error, error: console.error, debug: quiet };

// RpcServer listens on every interface; the tests use loopback only.
class LoopbackRpcServer extends RpcServer {
  _startServer(listenPort) {
    const srv = net.createServer();
    srv.once('error', err => this.emit('error', err));
    srv.on('connection', socket => this._handleSocket(socket));
    srv.listen(listenPort, '127.0.0.1', () => {
      this.boundPort = srv.address().port;
      this.emit('bound');
    });
    return srv;
  }
}

const server = new LoopbackRpcServer({ logger, port, protocol });

const demo = {
  async sayHello(name) {
    return 'Hello ' + name;
  },
  async echo(value) {
    return value;
  },
  async fail(message) {
    return { $class: 'java.lang.IllegalStateException', $: { detailMessage: message } };
  },
};
demo.$invoke = async function (method, types, args) {
  const fn = demo[method];
  if (typeof fn !== 'function' || method === '$invoke') {
    return { $class: 'java.lang.UnsupportedOperationException', $: { detailMessage: 'no method ' + method } };
  }
  return fn.apply(demo, args || []);
};

server.addService({
  interfaceName: 'org.apache.dubbo.sample.DemoService',
  version: '1.0.0',
  group: '',
}, demo);

server.addService({
  interfaceName: 'org.apache.dubbo.sample.Greeter',
  version: '0.0.0',
  group: '',
}, {
  async sayHello(request) {
    const name = request && request.name;
    return {
      $class: 'org.apache.dubbo.sample.HelloReply',
      $: { message: 'Hello ' + name, payload: request && request.payload },
    };
  },
});

server.on('error', err => console.error('server error:', err && err.message));
server.once('bound', () => {
  console.log('listening on 127.0.0.1:' + server.boundPort);
});
server.start().catch(err => {
  console.error('cannot start:', err);
  process.exit(1);
});

const stop = () => {
  server.close().then(() => process.exit(0), () => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
