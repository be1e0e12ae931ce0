import { reproduceTable } from "../../helpers/reproduce.ts";
import { TRANSFER } from "./reproduce_transfer.ts";

reproduceTable(TRANSFER);
