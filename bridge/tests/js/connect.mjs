// Connects with the token in each of the four places, then with bad tokens (connect_error with a reason).
import { check, connect, run } from "./lib.mjs";

const token = process.env.TOKEN_ALICE;

async function refused(opts) {
  try {
    const { socket } = await connect(opts);
    socket.close();
  } catch (e) {
    return e.message;
  }
  throw new Error(`connection with ${JSON.stringify(opts)} was accepted`);
}

run(async () => {
  const places = {
    auth: { auth: { token } },
    authorization: { transports: ["polling"], extraHeaders: { Authorization: `Bearer ${token}` } },
    xAuthToken: { extraHeaders: { "x-auth-token": token } },
    query: { query: { token } },
  };
  const users = {};
  for (const [name, opts] of Object.entries(places)) {
    const { socket, session } = await connect(opts);
    check(socket.connected, `${name}: not connected`);
    users[name] = session.user.id;
    socket.close();
  }
  const expired = await refused({ auth: { token: process.env.TOKEN_EXPIRED } });
  const garbage = await refused({ auth: { token: "not-a-jwt" } });
  const missing = await refused({});
  return { users, expired, garbage, missing };
});
