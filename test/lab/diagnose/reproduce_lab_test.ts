import { reproduceTable } from "../../helpers/reproduce.ts";
import { LAB } from "./reproduce_lab.ts";

reproduceTable(LAB);
