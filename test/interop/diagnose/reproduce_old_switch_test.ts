import { reproduceTable } from "../../helpers/reproduce.ts";
import { OLD_SWITCH } from "./reproduce_old_switch.ts";

reproduceTable(OLD_SWITCH);
