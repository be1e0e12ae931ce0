import { reproduceTable } from "../../helpers/reproduce.ts";
import { NO_SERVER } from "./reproduce_no_server.ts";

reproduceTable(NO_SERVER);
